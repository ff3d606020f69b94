print("refinery: under construction")
