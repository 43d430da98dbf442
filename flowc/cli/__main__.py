from flowc.cli import main

main(prog_name="flowc")
