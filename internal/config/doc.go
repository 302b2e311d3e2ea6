// Package config reads Nurture's settings from the environment and an
// optional YAML file, validates them once at start, and reports the first
// problem as one line that names the setting. The database URL is checked
// with dsn, as lib/pq will read it, so a bad one stops the start before
// anything connects; beyond that it knows nothing of what the settings are
// used for.
package config
