// Command nurture is the Nurture server and its tools. main only parses the
// command line, loads the configuration and wires the packages together.
package main
