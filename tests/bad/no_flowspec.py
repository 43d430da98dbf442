# expect: 1:1: no FlowSpec class
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F:
    pass
