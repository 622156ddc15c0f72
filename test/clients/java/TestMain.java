// Seed 004's Java sample (QFPay Alipay online payment), copied as published.
// Changed for this platform: appcode, key, mchid and url are read from
// QFPAY_APP_CODE, QFPAY_CLIENT_KEY, QFPAY_MCHID, QFPAY_ENVIRONMENT.
// QFPayUtils and Requests, which the sample uses but does not show, are in this folder.
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
public class TestMain {
public static void main(String args[]){
String appcode=System.getenv("QFPAY_APP_CODE");
String key=System.getenv("QFPAY_CLIENT_KEY");
String mchid=System.getenv("QFPAY_MCHID");
String pay_type="801101";
String out_trade_no= "01234567890123";
SimpleDateFormat df = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss");
String date=df.format(new Date());
String txdtm=date;
String txamt="10";
String txcurrcd="EUR";
Map<String, String> unsortMap = new HashMap<>();
unsortMap.put("mchid", mchid);
unsortMap.put("pay_type", pay_type);
unsortMap.put("out_trade_no", out_trade_no);
unsortMap.put("txdtm", txdtm);
unsortMap.put("txamt", txamt);
unsortMap.put("txcurrcd", txcurrcd);
//unsortMap.put("product_name", product_name);
//unsortMap.put("valid_time", "300");
String data=QFPayUtils.getDataString(unsortMap);
System.out.println("Data:\n"+data+key);
String md5Sum=QFPayUtils.getMd5Value(data+key);
System.out.println("Md5 Value:\n"+md5Sum);
String url=System.getenv("QFPAY_ENVIRONMENT");
String resp= Requests.sendPostRequest(url+"/trade/v1/payment", data, appcode,key);
System.out.println(resp);
}
}
