"""`flowc report`: one self-contained HTML page about a run (facts.py reads it, graph_svg.py and page.py draw it)."""
