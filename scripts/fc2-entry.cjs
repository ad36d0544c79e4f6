// Entry for dist/<fn>/fc2.js: the @alicloud/fc2 client, bundled on its own (see scripts/build.mjs).
module.exports = require('@alicloud/fc2');
