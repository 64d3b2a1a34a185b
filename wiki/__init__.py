"""cowiki domain: pages, merges, rendering, accounts. No flask imports here."""
