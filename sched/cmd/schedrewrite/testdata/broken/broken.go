package broken

func f() int {
	return "x"
}
