"""The catalogue's HTTP API: creator endpoints (`me/…`), licensee reads, public signals."""
