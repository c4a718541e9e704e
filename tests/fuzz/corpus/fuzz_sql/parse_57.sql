SELECT 'line
break'