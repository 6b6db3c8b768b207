"""Anonymous participant feedback: windows and short codes per group session, end-of-group and
network-meeting surveys, results with small-number suppression, charts and the lead's report."""
