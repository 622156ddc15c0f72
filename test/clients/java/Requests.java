// POSTs the sample's data string as the body (URLConnection's default
// Content-Type, application/x-www-form-urlencoded) with X-QF-APPCODE and
// X-QF-SIGN, and returns the answer's text, as seed 004's Java sample expects.
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;

public class Requests {
    public static String sendPostRequest(String url, String data, String appcode, String key) {
        try {
            URLConnection conn = new URL(url).openConnection();
            conn.setDoOutput(true);
            conn.setRequestProperty("Accept-Charset", "utf-8");
            conn.setRequestProperty("X-QF-APPCODE", appcode);
            conn.setRequestProperty("X-QF-SIGN", QFPayUtils.getMd5Value(data + key));
            try (OutputStream out = conn.getOutputStream()) {
                out.write(data.getBytes(StandardCharsets.UTF_8));
            }
            try (InputStream in = conn.getInputStream()) {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                in.transferTo(buf);
                return buf.toString(StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            e.printStackTrace();
            return "";
        }
    }
}
