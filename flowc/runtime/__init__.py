"""The task runtime: `python -m flowc.runtime step FLOW_FILE STEP ...` runs one task.

Standard library only at start-up; boto3 loads when the datastore is s3://.
Never imports the compiler.
"""
