"""The forecasting operator shared by every oracle (the ML LSTM, the baselines, the streaming
nowcast): plan a curve, commit it, reveal it inside its window, claim and withdraw rewards."""
