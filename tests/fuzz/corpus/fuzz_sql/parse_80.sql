#! shebang-style comment
SELECT 1 # and another
