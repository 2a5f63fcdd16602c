// npm run gen:schema: schema.json from the in-process ComponentProvider (the same analysis `pulumi package add` runs).
const fs = require("node:fs");
const path = require("node:path");
const { generateSchema } = require("../dist/src/pulumi/schema.js");
generateSchema(path.join(__dirname, "..")).then((text) => {
  fs.writeFileSync(path.join(__dirname, "../schema.json"), text);
  console.log("wrote schema.json");
});
