"""@retry and @catch together, as the @catch reference recommends
(https://docs.metaflow.org/api/step-decorators/catch: "It is best used in conjunction with the
@retry decorator: After all retries have been exhausted, @catch executes a no-op task that
allows the run to continue"): a scoring call that always fails is tried three times
(current.retry_count 0, 1, 2), then caught; the next step sees the exception in the variable
(a true value, whose text carries the message)."""

from metaflow import FlowSpec, catch, current, retry, step


class CatchAfterRetriesFlow(FlowSpec):
    @step
    def start(self):
        self.batch_id = "b-17"
        self.next(self.score)

    @catch(var="score_error", print_exception=False)
    @retry(times=2, minutes_between_retries=0)
    @step
    def score(self):
        print("scoring attempt", current.retry_count)
        self.scores = self.call_endpoint()
        self.next(self.end)

    @step
    def end(self):
        if self.score_error:
            # str() of the stored exception includes its message (Metaflow's wrapper gives the
            # whole stack trace, which ends with it)
            print("scoring failed:", "model endpoint rejected b-17" in str(self.score_error))

    def call_endpoint(self):
        raise ValueError(f"model endpoint rejected {self.batch_id}")


if __name__ == "__main__":
    CatchAfterRetriesFlow()
