"""The privacy team's room: consent, personal-data tokens, masking, export, erasure, retention,
the suppression list, and the policy ingestion applies for them."""
