"""The energy exchange, the asset registry and the renewable certificates (second wave).

Named *exchange* because ``gridcast.market`` already means the forecasting contracts.
"""
