local answer = 42
return answer
