"""Evidence: measures of a run, bounds and scores (`measures`), outcomes (`outcomes`), and `refuge check` (`check`)."""
