# expect: 11:9: there is no step 'helper'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    def helper(self):
        return 1

    
    @step
    def start(self):
        self.next(self.helper)

    @step
    def end(self):
        pass
