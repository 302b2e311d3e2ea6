// Package config reads Nurture's settings from the environment and an
// optional YAML file, validates them once at start, and reports the first
// problem as one line that names the setting. A connection string is checked
// with the parser of the package that will use it (dsn for the database,
// mailer for SMTP), so a bad one stops the start before anything connects;
// beyond that it knows nothing of what the settings are used for.
package config
