"""`gridcast demo`: a whole forecasting market on embedded defaults."""
