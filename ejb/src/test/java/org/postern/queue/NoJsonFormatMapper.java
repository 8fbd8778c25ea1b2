package org.postern.queue;

import org.hibernate.type.descriptor.WrapperOptions;
import org.hibernate.type.descriptor.java.JavaType;
import org.hibernate.type.format.FormatMapper;

/**
 * NoJsonFormatMapper - Hibernate's JSON format mapper for the tests' unit. The queue has no
 * JSON column, but Hibernate resolves a mapper at boot and, finding the JSON-B API on the
 * test classpath (jakartaee-api) without an implementation (WildFly supplies Yasson),
 * fails. This one is never called.
 */
public final class NoJsonFormatMapper implements FormatMapper {
    @Override
    public <T> T fromString(CharSequence chars, JavaType<T> javaType, WrapperOptions options) {
        throw new UnsupportedOperationException("the queue tables have no JSON column");
    }

    @Override
    public <T> String toString(T value, JavaType<T> javaType, WrapperOptions options) {
        throw new UnsupportedOperationException("the queue tables have no JSON column");
    }
}
