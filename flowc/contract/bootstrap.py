"""The fixed bootstrap program containers run when the image has Python (and boto3) but no flowc.

    python -c BOOTSTRAP_SOURCE step FLOW STEP ... --package s3://.../<sha256>.tar.gz

It fetches the code package, checks that its sha256 matches its name, extracts
it once into a cache folder (atomic rename), and hands over to `flowc.runtime`
from the package.  No user value is part of the program: the URL and every
other value arrive as argv items.  Standard library only (boto3 for s3:// URLs);
shared by the compiler (which renders the command) and the tests, so neither
imports the other's side.
"""

BOOTSTRAP_SOURCE = (
    "import hashlib,io,os,re,runpy,sys,tarfile,tempfile\n"
    "a=sys.argv[1:];u=a[a.index('--package')+1];s=re.search(r'([0-9a-f]{64})\\.tar\\.gz$',u).group(1)\n"
    "d=os.path.join(tempfile.gettempdir(),'flowc-packages',s)\n"
    "if not os.path.isdir(d):\n"
    " if u.startswith('s3://'):\n"
    "  import boto3;b,_,k=u[5:].partition('/');data=boto3.client('s3').get_object(Bucket=b,Key=k)['Body'].read()\n"
    " else:data=open(u,'rb').read()\n"
    " assert hashlib.sha256(data).hexdigest()==s,'package sha256 mismatch'\n"
    " os.makedirs(os.path.dirname(d),exist_ok=True);t=tempfile.mkdtemp(dir=os.path.dirname(d))\n"
    " f={'filter':'data'} if hasattr(tarfile,'data_filter') else {}\n"
    " tarfile.open(fileobj=io.BytesIO(data)).extractall(t,**f)\n"
    " try:os.rename(t,d)\n"
    " except OSError:pass\n"
    "sys.path.insert(0,d);os.chdir(d);sys.argv=['flowc.runtime']+a\n"
    "runpy.run_module('flowc.runtime',run_name='__main__',alter_sys=True)\n"
)
