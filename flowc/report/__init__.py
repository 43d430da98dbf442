"""`flowc report`: one self-contained HTML page about a run (facts.py reads it, page.py draws it with the runtime's graph_svg.py)."""
