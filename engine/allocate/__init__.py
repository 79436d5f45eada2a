"""Target allocation: rules + company data → optimal, fair, explained targets."""
