"""JSON API: parameter declarations, entities, pagination, and the v2 blueprints."""
