"""Intelligence: reports, requests for information (RFIs) and sharing agreements."""
