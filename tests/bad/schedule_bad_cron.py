# expect: 4:2: @schedule(cron='every day') must have 5 fields
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

@schedule(cron='every day')
class F(FlowSpec):
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
