"""A foreach: score each model configuration in parallel, then pick the best."""

from flowc import FlowSpec, catch, resources, retry, step, timeout


class ForeachFlow(FlowSpec):
    @step
    def start(self):
        self.learning_rates = [0.001, 0.01, 0.1]
        self.next(self.train, foreach="learning_rates")

    @resources(cpu=1, memory=2048, gpu=1)
    @retry(times=3, minutes_between_retries=1)
    @catch(var="train_error")
    @timeout(minutes=5)
    @step
    def train(self):
        self.rate = self.input
        # A stand-in for training: the loss is smallest near 0.01.
        self.loss = abs(self.rate - 0.01) * 100 + 1
        self.next(self.pick)

    @step
    def pick(self, inputs):
        best = min(inputs, key=lambda task: task.loss)
        self.best_rate = best.rate
        self.losses = sorted(task.loss for task in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("best learning rate:", self.best_rate)
