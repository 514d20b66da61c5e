"""Research output: the analysis-ready export (CSV and FHIR R4), its pseudonymous ids and the
study dashboard's numbers. Everything here reads; nothing writes patient data."""
