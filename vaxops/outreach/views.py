def worklist(r): pass
contact = rollup_page = village_list = worklist
