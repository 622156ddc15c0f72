// Seed 004's Node.js sample (QFPay Alipay online payment), copied as published.
// Changed for this platform: environment, app_code, client_key and mchid are
// read from QFPAY_ENVIRONMENT, QFPAY_APP_CODE, QFPAY_CLIENT_KEY, QFPAY_MCHID.
// API 憑證
const environment = process.env.QFPAY_ENVIRONMENT
const app_code = process.env.QFPAY_APP_CODE
const client_key = process.env.QFPAY_CLIENT_KEY
// 當前時間
var dateTime = new Date().toISOString().replace(/T/, ' ').replace(/\..+/, '')
console.log(dateTime)
// 請求參數
const key = client_key
var tradenumber = String(Math.round(Math.random() * 1000000000))
console.log(tradenumber)
var payload = {
'txamt': '10',
'txcurrcd': 'HKD',
'pay_type': '801101',
'out_trade_no': tradenumber,
'txdtm': dateTime,
'mchid': process.env.QFPAY_MCHID
};
// 建立簽名
const ordered = {};
Object.keys(payload).sort().forEach(function(key) {
ordered[key] = payload[key] });
console.log(ordered)
var str = [];
for (var p in ordered)
if (ordered.hasOwnProperty(p)) {
str.push((p) + "=" + (ordered[p]));
}
var string = str.join("&")+client_key;
console.log(string)
const crypto = require('crypto')
var hashed = crypto.createHash('md5').update(string).digest('hex')
console.log(hashed)
// 發送 POST 請求
var request = require("request");
request({
uri: environment+"/trade/v1/payment",
headers: {
'X-QF-APPCODE': app_code,
'X-QF-SIGN': hashed
},
method: "POST",
form: payload,
},
function(error, response, body) {
console.log(body);
});
