// Package clock owns the fake clock that tests move by hand. Code that
// needs the time takes a func() time.Time: production passes time.Now,
// tests pass (*Fake).Now and move it with Advance or Set, so no test
// sleeps through a delay. It imports nothing from Nurture.
package clock
