package dev.mmureplay.model;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The binary snapshot of a whole {@link MmuStateMachine} (format version {@value #VERSION}).
 *
 * <p>Format v1 is a <b>layout-bound object-graph encoding</b>: the model's object graph is walked in a fixed order
 * (fields of each class sorted by name, superclass first), primitives as zig-zag varints, {@code long[]}/{@code int[]}
 * with runs of zeros collapsed (SPTE tables are mostly empty), shared objects as back references, and the
 * {@code static final} constants of the model's classes (profiles, {@code ReplayStep.STIMULUS}, sentinels) by name, so
 * identity comparisons still hold after a restore. Each class is written once with a fingerprint of its field layout;
 * a reader whose classes differ refuses the snapshot ({@link IOException} naming the class) rather than guess.
 *
 * <p>Consequence: v1 restores only into the same model code (same job version). A hand-written, layout-independent
 * v2 (needed for savepoints across job versions, issue 5) replaces it; readers keep reading v1 for equal layouts.
 *
 * <p>Deterministic: equal states (the same events applied to the same profile/config) give equal bytes. JDK only;
 * objects are instantiated without constructors through {@code sun.misc.Unsafe} (module jdk.unsupported), records
 * through their canonical constructor.
 */
final class ModelSnapshot {

    static final int VERSION = 1;

    private static final int T_NULL = 0, T_REF = 1, T_OBJ = 2, T_CONST = 3, T_ENUM = 4, T_STRING = 5, T_BOX = 6,
            T_ARRAY = 7, T_LIST = 8, T_ENUMSET = 9, T_MAP = 10, T_RECORD = 11;
    private static final int L_ARRAYLIST = 0, L_UNMODIFIABLE = 1;
    private static final int M_LINKED = 0, M_HASH = 1;

    private ModelSnapshot() {
    }

    // ================================================================================================ write

    static void write(MmuStateMachine m, DataOutput out) throws IOException {
        out.writeByte(VERSION);
        new Writer(out).value(m);
    }

    static MmuStateMachine read(DataInput in) throws IOException {
        int v = in.readUnsignedByte();
        if (v != VERSION) {
            throw new IOException("unknown MmuStateMachine snapshot format version " + v + " (this reader knows "
                    + VERSION + ")");
        }
        Object o = new Reader(in).value();
        if (!(o instanceof MmuStateMachine m)) {
            throw new IOException("snapshot does not hold an MmuStateMachine");
        }
        return m;
    }

    private static final class Writer {
        final DataOutput out;
        final IdentityHashMap<Object, Integer> handles = new IdentityHashMap<>();
        final Map<Class<?>, Integer> classes = new HashMap<>();

        Writer(DataOutput out) {
            this.out = out;
        }

        void cls(Class<?> c) throws IOException {
            Integer id = classes.get(c);
            if (id != null) {
                varint(out, id + 1L);
                return;
            }
            classes.put(c, classes.size());
            varint(out, 0);
            str(out, c.getName());
            out.writeLong(layout(c));
        }

        void value(Object o) throws IOException {
            if (o == null) {
                out.writeByte(T_NULL);
                return;
            }
            Integer h = handles.get(o);
            if (h != null) {
                out.writeByte(T_REF);
                varint(out, h);
                return;
            }
            Class<?> c = o.getClass();
            if (o instanceof String s) {
                out.writeByte(T_STRING);
                str(out, s);
                return;
            }
            if (o instanceof Enum<?> e) {
                out.writeByte(T_ENUM);
                cls(e.getDeclaringClass());
                str(out, e.name());
                return;
            }
            if (o instanceof Number || o instanceof Boolean || o instanceof Character) {
                out.writeByte(T_BOX);
                box(o);
                return;
            }
            String constant = constantName(o);
            if (constant != null) {
                out.writeByte(T_CONST);
                cls(constantOwner(o));
                str(out, constant);
                return;
            }
            if (c.isArray()) {
                handles.put(o, handles.size());
                out.writeByte(T_ARRAY);
                str(out, c.getName());
                array(o);
                return;
            }
            if (o instanceof List<?> l) {
                handles.put(o, handles.size());
                out.writeByte(T_LIST);
                out.writeByte(o instanceof ArrayList ? L_ARRAYLIST : L_UNMODIFIABLE);
                varint(out, l.size());
                for (Object x : l) {
                    value(x);
                }
                return;
            }
            if (o instanceof Set<?> s && s.stream().allMatch(x -> x instanceof Enum<?>)) {
                if (s.isEmpty()) {
                    throw new IOException("snapshot: empty set of unknown element type in the model graph");
                }
                handles.put(o, handles.size());
                out.writeByte(T_ENUMSET);
                cls(((Enum<?>) s.iterator().next()).getDeclaringClass());
                int[] ords = s.stream().mapToInt(x -> ((Enum<?>) x).ordinal()).sorted().toArray();
                varint(out, ords.length);
                for (int x : ords) {
                    varint(out, x);
                }
                return;
            }
            if (o instanceof LinkedHashMap<?, ?> || o instanceof HashMap<?, ?>) {
                handles.put(o, handles.size());
                out.writeByte(T_MAP);
                out.writeByte(o instanceof LinkedHashMap ? M_LINKED : M_HASH);
                Map<?, ?> mp = (Map<?, ?>) o;
                varint(out, mp.size());
                for (Map.Entry<?, ?> en : mp.entrySet()) {
                    value(en.getKey());
                    value(en.getValue());
                }
                return;
            }
            if (c.getName().startsWith("java.")) {
                throw new IOException("snapshot: unsupported JDK type in the model graph: " + c.getName());
            }
            if (c.isRecord()) {
                out.writeByte(T_RECORD);
                cls(c);
                for (RecordComponent rc : c.getRecordComponents()) {
                    try {
                        Method0.get(rc, o, this);
                    } catch (ReflectiveOperationException ex) {
                        throw new IOException(ex);
                    }
                }
                handles.put(o, handles.size());
                return;
            }
            handles.put(o, handles.size());
            out.writeByte(T_OBJ);
            cls(c);
            for (Field f : fields(c)) {
                try {
                    field(f, o);
                } catch (IllegalAccessException ex) {
                    throw new IOException(ex);
                }
            }
        }

        void field(Field f, Object o) throws IllegalAccessException, IOException {
            Class<?> t = f.getType();
            if (t == long.class) {
                zlong(out, f.getLong(o));
            } else if (t == int.class) {
                zlong(out, f.getInt(o));
            } else if (t == boolean.class) {
                out.writeBoolean(f.getBoolean(o));
            } else if (t == byte.class) {
                out.writeByte(f.getByte(o));
            } else if (t == short.class) {
                zlong(out, f.getShort(o));
            } else if (t == char.class) {
                varint(out, f.getChar(o));
            } else if (t == double.class) {
                out.writeDouble(f.getDouble(o));
            } else if (t == float.class) {
                out.writeFloat(f.getFloat(o));
            } else {
                value(f.get(o));
            }
        }

        void box(Object o) throws IOException {
            if (o instanceof Long x) {
                out.writeByte('J');
                zlong(out, x);
            } else if (o instanceof Integer x) {
                out.writeByte('I');
                zlong(out, x);
            } else if (o instanceof Boolean x) {
                out.writeByte('Z');
                out.writeBoolean(x);
            } else if (o instanceof Double x) {
                out.writeByte('D');
                out.writeDouble(x);
            } else if (o instanceof Short x) {
                out.writeByte('S');
                zlong(out, x);
            } else if (o instanceof Byte x) {
                out.writeByte('B');
                out.writeByte(x);
            } else if (o instanceof Character x) {
                out.writeByte('C');
                varint(out, x);
            } else if (o instanceof Float x) {
                out.writeByte('F');
                out.writeFloat(x);
            } else {
                throw new IOException("snapshot: unsupported number type " + o.getClass().getName());
            }
        }

        void array(Object a) throws IOException {
            int n = Array.getLength(a);
            varint(out, n);
            if (a instanceof long[] la) {
                int i = 0;
                while (i < n) {
                    int z = 0;
                    while (i < n && la[i] == 0) {
                        z++;
                        i++;
                    }
                    varint(out, z);
                    if (i < n) {
                        zlong(out, la[i++]);
                    }
                }
            } else if (a instanceof int[] ia) {
                int i = 0;
                while (i < n) {
                    int z = 0;
                    while (i < n && ia[i] == 0) {
                        z++;
                        i++;
                    }
                    varint(out, z);
                    if (i < n) {
                        zlong(out, ia[i++]);
                    }
                }
            } else if (a instanceof boolean[] ba) {
                for (boolean b : ba) {
                    out.writeBoolean(b);
                }
            } else if (a instanceof byte[] ba) {
                out.write(ba);
            } else if (a instanceof short[] sa) {
                for (short s : sa) {
                    zlong(out, s);
                }
            } else if (a instanceof char[] ca) {
                for (char ch : ca) {
                    varint(out, ch);
                }
            } else if (a instanceof double[] da) {
                for (double d : da) {
                    out.writeDouble(d);
                }
            } else if (a instanceof float[] fa) {
                for (float f : fa) {
                    out.writeFloat(f);
                }
            } else {
                Object[] oa = (Object[]) a;
                for (Object x : oa) {
                    value(x);
                }
            }
        }
    }

    /** Record component access (kept apart to name the reflective call once). */
    private static final class Method0 {
        static void get(RecordComponent rc, Object o, Writer w) throws ReflectiveOperationException, IOException {
            var acc = rc.getAccessor();
            acc.setAccessible(true);
            Object v = acc.invoke(o);
            Class<?> t = rc.getType();
            if (t.isPrimitive()) {
                w.box(v);
            } else {
                w.value(v);
            }
        }
    }

    // ================================================================================================ read

    private static final class Reader {
        final DataInput in;
        final List<Object> handles = new ArrayList<>();
        final List<Class<?>> classes = new ArrayList<>();

        Reader(DataInput in) {
            this.in = in;
        }

        Class<?> cls() throws IOException {
            long id = varint(in);
            if (id > 0) {
                return classes.get((int) (id - 1));
            }
            String name = str(in);
            long fp = in.readLong();
            Class<?> c;
            try {
                c = Class.forName(name, false, ModelSnapshot.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IOException("snapshot names class " + name + ", unknown to this model version", e);
            }
            if (layout(c) != fp) {
                throw new IOException("snapshot was written by a different layout of " + name
                        + " (format v1 restores only into the same model code)");
            }
            classes.add(c);
            return c;
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        Object value() throws IOException {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case T_NULL:
                    return null;
                case T_REF:
                    return handles.get((int) varint(in));
                case T_STRING:
                    return str(in);
                case T_ENUM: {
                    Class c = cls();
                    return Enum.valueOf(c, str(in));
                }
                case T_BOX:
                    return box();
                case T_CONST: {
                    Class<?> c = cls();
                    String name = str(in);
                    try {
                        Field f = c.getDeclaredField(name);
                        f.setAccessible(true);
                        return f.get(null);
                    } catch (ReflectiveOperationException e) {
                        throw new IOException("snapshot constant " + c.getName() + "." + name + " not found", e);
                    }
                }
                case T_ARRAY: {
                    String name = str(in);
                    Class<?> c;
                    try {
                        c = Class.forName(name, false, ModelSnapshot.class.getClassLoader());
                    } catch (ClassNotFoundException e) {
                        throw new IOException("snapshot array type " + name + " unknown", e);
                    }
                    int n = (int) varint(in);
                    Object a = Array.newInstance(c.getComponentType(), n);
                    handles.add(a);
                    array(a, n);
                    return a;
                }
                case T_LIST: {
                    int kind = in.readUnsignedByte();
                    int n = (int) varint(in);
                    ArrayList<Object> l = new ArrayList<>(n);
                    Object result = kind == L_ARRAYLIST ? l : Collections.unmodifiableList(l);
                    handles.add(result);
                    for (int i = 0; i < n; i++) {
                        l.add(value());
                    }
                    return result;
                }
                case T_ENUMSET: {
                    Class c = cls();
                    EnumSet s = EnumSet.noneOf(c);
                    Object[] all = c.getEnumConstants();
                    Set<?> result = Collections.unmodifiableSet(s);
                    handles.add(result);
                    int n = (int) varint(in);
                    for (int i = 0; i < n; i++) {
                        s.add(all[(int) varint(in)]);
                    }
                    return result;
                }
                case T_MAP: {
                    int kind = in.readUnsignedByte();
                    int n = (int) varint(in);
                    Map<Object, Object> mp = kind == M_LINKED ? new LinkedHashMap<>() : new HashMap<>();
                    handles.add(mp);
                    for (int i = 0; i < n; i++) {
                        Object k = value();
                        mp.put(k, value());
                    }
                    return mp;
                }
                case T_RECORD: {
                    Class<?> c = cls();
                    RecordComponent[] rcs = c.getRecordComponents();
                    Class<?>[] types = new Class<?>[rcs.length];
                    Object[] args = new Object[rcs.length];
                    for (int i = 0; i < rcs.length; i++) {
                        types[i] = rcs[i].getType();
                        args[i] = types[i].isPrimitive() ? box() : value();
                    }
                    try {
                        Constructor<?> k = c.getDeclaredConstructor(types);
                        k.setAccessible(true);
                        Object r = k.newInstance(args);
                        handles.add(r);
                        return r;
                    } catch (ReflectiveOperationException e) {
                        throw new IOException("snapshot: cannot rebuild record " + c.getName(), e);
                    }
                }
                case T_OBJ: {
                    Class<?> c = cls();
                    Object o;
                    try {
                        o = UnsafeHolder.allocate(c);
                    } catch (ReflectiveOperationException e) {
                        throw new IOException("snapshot: cannot instantiate " + c.getName(), e);
                    }
                    handles.add(o);
                    for (Field f : fields(c)) {
                        try {
                            field(f, o);
                        } catch (IllegalAccessException e) {
                            throw new IOException(e);
                        }
                    }
                    return o;
                }
                default:
                    throw new IOException("snapshot: corrupt data (tag " + tag + ")");
            }
        }

        void field(Field f, Object o) throws IllegalAccessException, IOException {
            Class<?> t = f.getType();
            if (t == long.class) {
                f.setLong(o, zlong(in));
            } else if (t == int.class) {
                f.setInt(o, (int) zlong(in));
            } else if (t == boolean.class) {
                f.setBoolean(o, in.readBoolean());
            } else if (t == byte.class) {
                f.setByte(o, in.readByte());
            } else if (t == short.class) {
                f.setShort(o, (short) zlong(in));
            } else if (t == char.class) {
                f.setChar(o, (char) varint(in));
            } else if (t == double.class) {
                f.setDouble(o, in.readDouble());
            } else if (t == float.class) {
                f.setFloat(o, in.readFloat());
            } else {
                f.set(o, value());
            }
        }

        Object box() throws IOException {
            int t = in.readUnsignedByte();
            return switch (t) {
                case 'J' -> zlong(in);
                case 'I' -> (int) zlong(in);
                case 'Z' -> in.readBoolean();
                case 'D' -> in.readDouble();
                case 'S' -> (short) zlong(in);
                case 'B' -> in.readByte();
                case 'C' -> (char) varint(in);
                case 'F' -> in.readFloat();
                default -> throw new IOException("snapshot: corrupt boxed value (" + t + ")");
            };
        }

        void array(Object a, int n) throws IOException {
            if (a instanceof long[] la) {
                int i = 0;
                while (i < n) {
                    i += (int) varint(in);
                    if (i < n) {
                        la[i++] = zlong(in);
                    }
                }
            } else if (a instanceof int[] ia) {
                int i = 0;
                while (i < n) {
                    i += (int) varint(in);
                    if (i < n) {
                        ia[i++] = (int) zlong(in);
                    }
                }
            } else if (a instanceof boolean[] ba) {
                for (int i = 0; i < n; i++) {
                    ba[i] = in.readBoolean();
                }
            } else if (a instanceof byte[] ba) {
                in.readFully(ba);
            } else if (a instanceof short[] sa) {
                for (int i = 0; i < n; i++) {
                    sa[i] = (short) zlong(in);
                }
            } else if (a instanceof char[] ca) {
                for (int i = 0; i < n; i++) {
                    ca[i] = (char) varint(in);
                }
            } else if (a instanceof double[] da) {
                for (int i = 0; i < n; i++) {
                    da[i] = in.readDouble();
                }
            } else if (a instanceof float[] fa) {
                for (int i = 0; i < n; i++) {
                    fa[i] = in.readFloat();
                }
            } else {
                Object[] oa = (Object[]) a;
                for (int i = 0; i < n; i++) {
                    oa[i] = value();
                }
            }
        }
    }

    // ================================================================================================ classes

    private static final ClassValue<Field[]> FIELDS = new ClassValue<>() {
        @Override
        protected Field[] computeValue(Class<?> c) {
            List<Field> all = new ArrayList<>();
            List<Class<?>> chain = new ArrayList<>();
            for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
                chain.add(0, k);
            }
            for (Class<?> k : chain) {
                Field[] fs = k.getDeclaredFields();
                Arrays.sort(fs, Comparator.comparing(Field::getName));
                for (Field f : fs) {
                    int mod = f.getModifiers();
                    if (Modifier.isStatic(mod) || Modifier.isTransient(mod)) {
                        continue;
                    }
                    f.setAccessible(true);
                    all.add(f);
                }
            }
            return all.toArray(new Field[0]);
        }
    };

    /** Static final object constants of a class, by identity (written by name, restored as the same object). */
    private static final ClassValue<IdentityHashMap<Object, String>> CONSTANTS = new ClassValue<>() {
        @Override
        protected IdentityHashMap<Object, String> computeValue(Class<?> c) {
            IdentityHashMap<Object, String> m = new IdentityHashMap<>();
            Field[] fs = c.getDeclaredFields();
            Arrays.sort(fs, Comparator.comparing(Field::getName));
            for (Field f : fs) {
                int mod = f.getModifiers();
                if (Modifier.isStatic(mod) && Modifier.isFinal(mod) && !f.getType().isPrimitive()) {
                    try {
                        f.setAccessible(true);
                        Object v = f.get(null);
                        if (v != null && v.getClass() == c) {
                            m.putIfAbsent(v, f.getName());
                        }
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        // not a constant we can name
                    }
                }
            }
            return m;
        }
    };

    private static Class<?> constantOwner(Object o) {
        return o.getClass();
    }

    private static String constantName(Object o) {
        Class<?> c = o.getClass();
        if (c.isArray() || c.getName().startsWith("java.")) {
            return null;
        }
        return CONSTANTS.get(c).get(o);
    }

    private static Field[] fields(Class<?> c) {
        return FIELDS.get(c);
    }

    /** Fingerprint of a class's serialized layout: field names and types in write order (FNV-1a 64). */
    static long layout(Class<?> c) {
        long h = 0xcbf29ce484222325L;
        StringBuilder sb = new StringBuilder(c.getName());
        if (c.isRecord()) {
            for (RecordComponent rc : c.getRecordComponents()) {
                sb.append(';').append(rc.getName()).append(':').append(rc.getType().getName());
            }
        } else if (!c.isEnum()) {
            for (Field f : fields(c)) {
                sb.append(';').append(f.getName()).append(':').append(f.getType().getName());
            }
        }
        for (byte b : sb.toString().getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static final class UnsafeHolder {
        private static final Object UNSAFE;
        private static final java.lang.reflect.Method ALLOCATE;

        static {
            try {
                Class<?> u = Class.forName("sun.misc.Unsafe");
                Field f = u.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                UNSAFE = f.get(null);
                ALLOCATE = u.getMethod("allocateInstance", Class.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        static Object allocate(Class<?> c) throws ReflectiveOperationException {
            return ALLOCATE.invoke(UNSAFE, c);
        }
    }

    // ================================================================================================ varints

    private static void varint(DataOutput out, long v) throws IOException {
        while ((v & ~0x7fL) != 0) {
            out.writeByte((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    private static void zlong(DataOutput out, long v) throws IOException {
        varint(out, (v << 1) ^ (v >> 63));
    }

    private static long varint(DataInput in) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IOException("snapshot: corrupt varint");
    }

    private static long zlong(DataInput in) throws IOException {
        long u = varint(in);
        return (u >>> 1) ^ -(u & 1);
    }

    private static void str(DataOutput out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        varint(out, b.length);
        out.write(b);
    }

    private static String str(DataInput in) throws IOException {
        int n = (int) varint(in);
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
