"""@retry with current.retry_count, the "Dealing with Failures" docs' pattern
(https://docs.metaflow.org/scaling/failures#retrying-tasks-with-the-retry-decorator): a flaky
fetch fails on its first attempt and succeeds on the retry; `current.retry_count` is 0 on the
first attempt and 1 on the second; minutes_between_retries=0 so the retry starts at once."""

from metaflow import FlowSpec, current, retry, step


class FlakyFetchFlow(FlowSpec):
    @retry(times=2, minutes_between_retries=0)
    @step
    def start(self):
        print("attempt", current.retry_count)
        if current.retry_count == 0:
            raise ConnectionError("upstream API timed out")
        self.payload = {"rows": 42, "attempt": current.retry_count}
        self.next(self.end)

    @step
    def end(self):
        print("fetched", self.payload["rows"], "rows on attempt", self.payload["attempt"])


if __name__ == "__main__":
    FlakyFetchFlow()
