"""The built-in panels' KQL, shipped as data (*.kql with a metadata header); see services.monitor."""
