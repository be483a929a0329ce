"""What spans features: the resident's home and to-do list (more moves here in the
redesign step). The only package that may import every feature."""
