"""@catch(var=...) as "Dealing with Failures" documents it
(https://docs.metaflow.org/scaling/failures#catching-exceptions-with-the-catch-decorator): the
failing foreach task's exception is stored in the named artifact and the run continues; in the
tasks that succeed the artifact is None, so the join's `if not i.compute_failed:` keeps exactly
the successful ones."""

from metaflow import FlowSpec, catch, step


class CatchDivideFlow(FlowSpec):
    @step
    def start(self):
        self.divisors = [2, 0, 5]
        self.next(self.compute, foreach="divisors")

    @catch(var="compute_failed", print_exception=False)
    @step
    def compute(self):
        self.div = self.input
        self.ratio = 10 / self.div
        self.next(self.join)

    @step
    def join(self, inputs):
        self.ratios = [i.ratio for i in inputs if not i.compute_failed]
        self.failed = [i.div for i in inputs if i.compute_failed]
        self.next(self.end)

    @step
    def end(self):
        print("ratios", self.ratios, "failed for", self.failed)


if __name__ == "__main__":
    CatchDivideFlow()
