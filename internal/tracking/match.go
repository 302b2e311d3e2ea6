package tracking

// MatchURL reports whether url matches pattern, where * in the pattern
// stands for any run of characters (slashes included) and everything else
// must match exactly. It is the rule of the URL globs in scoring.yaml and
// of a sequence condition's clicked_url().
func MatchURL(pattern, url string) bool {
	p, u := 0, 0
	star, mark := -1, 0
	for u < len(url) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, u
			p++
		case p < len(pattern) && pattern[p] == url[u]:
			p++
			u++
		case star >= 0:
			p = star + 1
			mark++
			u = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
