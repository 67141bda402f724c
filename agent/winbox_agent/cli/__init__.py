"""The RouterOS command language: lexer, interpreter, print and export."""
