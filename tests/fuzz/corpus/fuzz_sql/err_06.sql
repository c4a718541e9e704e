SELECT a,
  'abc
 FROM events