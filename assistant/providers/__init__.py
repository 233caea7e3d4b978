"""Model providers behind one small interface; each imported only when used."""
