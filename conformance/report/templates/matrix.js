(function(){
  function openFeature(id, col, scroll){
    var d=document.getElementById(id); if(!d) return;
    d.open=true;
    document.querySelectorAll('.sel').forEach(function(e){e.classList.remove('sel')});
    if(col){d.querySelectorAll('details.case').forEach(function(c){
      var o=c.getAttribute('data-'+col); if(o && o!=='passed' && o!=='unsupported' && o!=='skipped'){c.open=true}});
      d.querySelectorAll('.side[data-col="'+col+'"]').forEach(function(s){s.classList.add('sel')});}
    else{d.querySelectorAll('details.case[data-notable="1"]').forEach(function(c){c.open=true})}
    if(scroll){d.scrollIntoView({block:'start'})}
  }
  document.querySelectorAll('td.cell').forEach(function(td){
    td.addEventListener('click',function(){openFeature(td.getAttribute('data-target'),td.getAttribute('data-col'),true)});
  });
  var only=document.getElementById('only-notable');
  only.addEventListener('change',function(){
    document.querySelectorAll('details.case').forEach(function(c){
      c.classList.toggle('hidden', only.checked && c.getAttribute('data-notable')!=='1')});
  });
  var hash=decodeURIComponent(location.hash.slice(1));
  if(hash.indexOf('open=')===0){hash.slice(5).split(',').forEach(function(id){openFeature(id,null,false)})}
  else if(hash){openFeature(hash,null,true)}
  var m=document.getElementById('matrix');
  document.getElementById('status').textContent=m.getAttribute('data-features')+' features x '+m.getAttribute('data-providers')+' providers; click a cell for its cases';
  document.body.setAttribute('data-ready','1');
})();
