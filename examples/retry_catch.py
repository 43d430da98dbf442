"""Retry, catch and timeout: a flaky step succeeds on its second attempt; a broken one is caught."""

from flowc import FlowSpec, catch, current, retry, step, timeout


class RetryCatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @timeout(seconds=60)
    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("transient failure on the first attempt")
        self.attempts_needed = current.retry_count + 1
        self.next(self.broken)

    @catch(var="broken_error", print_exception=False)
    @step
    def broken(self):
        self.partial = "written before the failure"
        raise ValueError("this step always fails")
        self.next(self.end)  # unreachable on purpose: @catch carries on

    @step
    def end(self):
        print("flaky needed", self.attempts_needed, "attempts; caught:", type(self.broken_error).__name__)
