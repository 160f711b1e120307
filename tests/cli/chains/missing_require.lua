local helper = require("no_such_module")
return { new_flow = helper }
