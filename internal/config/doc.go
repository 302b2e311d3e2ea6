// Package config reads Nurture's settings from the environment and an
// optional YAML file, validates them once at start, and reports the first
// problem as one line that names the setting. It knows nothing of what the
// settings are used for.
package config
