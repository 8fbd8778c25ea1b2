/**
 * The queue schema, next to the entities it must match: {@link org.postern.queue.schema.QueueSchema}
 * brings the tables into shape while the persistence unit starts (Flyway migrations and
 * validation on PostgreSQL, an update from the mapping on H2), and
 * {@link org.postern.queue.schema.QueueMigrations} lists the versioned PostgreSQL migrations
 * kept in this jar under db/migration/postgresql. A change to an entity in
 * {@code org.postern.queue} and its migration are made here, in one module, together.
 */
package org.postern.queue.schema;
