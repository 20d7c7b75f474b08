"""The registry: incidents and the persons, groups, vehicles, vessels and places behind them."""
