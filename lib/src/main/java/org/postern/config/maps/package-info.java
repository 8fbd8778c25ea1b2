/**
 * Lookup tables in Postfix's syntax: {@code inline:{...}} and {@code texthash:/path}.
 * See {@link org.postern.config.maps.LookupTables}.
 */
package org.postern.config.maps;
