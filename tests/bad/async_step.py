# expect: 7:5: step 'start' must not be async
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    async def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
