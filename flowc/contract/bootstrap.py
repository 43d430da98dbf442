"""The code-package bootstrap, written once: the fixed program containers run, and the runtime's own copy.

    python -c BOOTSTRAP_SOURCE step FLOW STEP ... --package s3://.../<sha256>.tar.gz

It fetches the code package, checks explicitly (never `assert`, which
`python -O` removes) that its sha256 matches its name, refuses unsafe tar
entries, extracts it once into a cache folder (FLOWC_PACKAGE_CACHE, default
<tmp>/flowc-packages/<sha>, made complete by an atomic rename so concurrent
tasks share it) and hands over to `flowc.runtime` from the package.

PACKAGE_FUNCTIONS is the logic as program text; BOOTSTRAP_SOURCE is that text
plus a fixed entry, and `fetch`/`extract` below are the same text executed, for
the runtime (`--package` on an image that has flowc).  No user value is part of
the program: the URL and every other value arrive as argv items.  The text is
kept short: it is inside Step Functions' 8,192-character ContainerOverrides.
Standard library only (boto3 for s3:// URLs).
"""

from __future__ import annotations

from flowc.contract.command import EXIT_FAILED, PACKAGE_FLAG, RUNTIME_MODULE

PACKAGE_FUNCTIONS = r"""import hashlib,io,os,re,sys,tarfile,tempfile
def fetch(u):
 if u.startswith('s3://'):
  import boto3;b,_,k=u[5:].partition('/');return boto3.client('s3').get_object(Bucket=b,Key=k)['Body'].read()
 with open(u[7:] if u.startswith('file://') else u,'rb') as f:return f.read()
def extract(u):
 m=re.search(r'([0-9a-f]{64})\.tar\.gz$',u)
 if not m:raise ValueError('the package name must be <sha256>.tar.gz')
 s=m.group(1);c=os.environ.get('FLOWC_PACKAGE_CACHE') or os.path.join(tempfile.gettempdir(),'flowc-packages')
 d=os.path.join(c,s)
 if os.path.isdir(d):return d
 data=fetch(u)
 if hashlib.sha256(data).hexdigest()!=s:raise ValueError('sha256 mismatch: the package content does not match its name')
 with tarfile.open(fileobj=io.BytesIO(data),mode='r:gz') as z:
  for e in z.getmembers():
   if not e.isfile() or e.name.startswith(('/','..')) or '/../' in e.name:raise ValueError('unsafe entry in package: %r'%e.name)
  os.makedirs(c,exist_ok=True);t=tempfile.mkdtemp(dir=c,prefix='.tmp-')
  z.extractall(t,**({'filter':'data'} if hasattr(tarfile,'data_filter') else {}))
 try:os.rename(t,d)
 except OSError:import shutil;shutil.rmtree(t,ignore_errors=True)
 return d
"""

# The entry: every failure to get the package is one line on stderr and the runtime's "failed" exit code.
BOOTSTRAP_SOURCE = PACKAGE_FUNCTIONS + (
    "a=sys.argv[1:]\n"
    f"try:d=extract(a[a.index({PACKAGE_FLAG!r})+1])\n"
    "except Exception as x:\n"
    " print('flowc bootstrap: error: cannot use the code package: %s'%x,file=sys.stderr)"
    f";sys.exit({EXIT_FAILED})\n"
    f"sys.path.insert(0,d);os.chdir(d);sys.argv=[{RUNTIME_MODULE!r}]+a\n"
    f"import runpy;runpy.run_module({RUNTIME_MODULE!r},run_name='__main__',alter_sys=True)\n"
)

_namespace: dict = {}
exec(compile(PACKAGE_FUNCTIONS, __file__ + ":PACKAGE_FUNCTIONS", "exec"), _namespace)  # noqa: S102 - our fixed text
fetch = _namespace["fetch"]
extract = _namespace["extract"]
