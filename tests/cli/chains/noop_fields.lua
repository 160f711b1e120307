-- noop_fields - sets nothing: a record holds only what the core sets
return { new_flow = function() end }
